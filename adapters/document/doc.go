// Package document prints an appeal: an A4 PDF of what the citizen sent,
// who they are by the ID-card registry, the booked reception and every
// change of status, in Azerbaijani or English, with a QR code of the
// appeal's number and its page on the portal.
//
// The text is set in DejaVu Sans (regular and bold, fonts/, under the
// Bitstream Vera licence in fonts/LICENSE), embedded in the binary and
// subset into each document, so every Azerbaijani letter prints whatever
// fonts the reader has. Everything in an appeal is outside input: it is
// cleaned of control characters, bounded, wrapped to the page and carried
// over as many pages as it needs; nothing in it can make Render panic.
package document
