// Package esd is the client of the legacy district systems (contract §5): the
// vendor's "Müraciət" SOAP 1.1 service (schemas/esd), spoken with
// github.com/beevik/etree. It hands appeals over (QeydiyyataAl), forwards
// citizens' comments (SerhElaveEt) and reads the appeals' progress for the
// hub's polling (VeziyyetSorgula, DeyisiklikleriAl), because ESD cannot call
// the hub.
//
// Every request carries a WS-Security UsernameToken with PasswordText and the
// SOAPAction of its operation. Every failure comes back as a
// *routers.TransientError (retry later) or a *routers.PermanentError; a SOAP
// fault's Xeta detail is kept as a *FaultError inside them. The client never
// retries by itself: the hub's delivery flow schedules the next attempt, and
// a repeated QeydiyyataAl is safe because ESD answers a known XariciNomre (the
// hub's appeal number) with the TEKRAR fault, which the client reads as success.
//
// Answers are read up to Config.MaxResponseBytes and refused if they hold a
// DTD, so no entity can be expanded, or more than MaxEnvelopeNodes nodes, so
// no answer holds more than a few MiB as a tree; at most Config.MaxConcurrent
// calls run at once against one district.
package esd
