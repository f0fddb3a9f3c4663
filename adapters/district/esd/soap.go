package esd

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/beevik/etree"

	"github.com/korpu-az/korpu/routers"
)

// Namespaces of the messages.
const (
	// Namespace is the target namespace of the vendor's WSDL and XSD.
	Namespace = "urn:az:esd:muraciet:v1"
	// SOAPNamespace is the SOAP 1.1 envelope namespace.
	SOAPNamespace = "http://schemas.xmlsoap.org/soap/envelope/"
	// WSSENamespace is the OASIS WS-Security 1.0 extension namespace.
	WSSENamespace = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
	// PasswordText is the Type of a wsse:Password sent in clear text.
	PasswordText = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordText" //nolint:gosec // G101: a type URI of the standard, not a credential
)

// The operations of the WSDL's MuracietPort.
const (
	OpRegister = "QeydiyyataAl"
	OpState    = "VeziyyetSorgula"
	OpChanges  = "DeyisiklikleriAl"
	OpComment  = "SerhElaveEt"
)

// SOAPAction returns the soapAction the WSDL's binding gives an operation.
func SOAPAction(op string) string { return Namespace + "/" + op }

// The codes of a fault's Xeta detail (XSD type XetaKodu).
const (
	CodeBusy         = "SISTEM_MESGUL"   // busy: try again later
	CodeInvalid      = "MELUMAT_SEHVDIR" // invalid data: do not retry
	CodeDuplicate    = "TEKRAR"          // XariciNomre already registered; MovcudNomre holds its number
	CodeNotFound     = "TAPILMADI"       // unknown registration number
	CodeUnauthorized = "ICAZE_YOXDUR"    // missing or wrong credentials
)

// dateLayout is xs:date as the hub writes it.
const dateLayout = "2006-01-02"

// FormatDateTime renders t as an xs:dateTime in Baku time, with fractions of
// a second only if t has them: a DeyisiklikleriAl cursor must not lose them,
// or a poller could ask for the same second's changes for ever.
func FormatDateTime(t time.Time) string { return t.In(routers.Baku).Format(time.RFC3339Nano) }

// ParseDateTime reads an xs:dateTime; one without a zone is Baku time, as
// ESD installations run on it.
func ParseDateTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", s, routers.Baku)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an xs:dateTime", s)
	}
	return t, nil
}

// Envelope is a parsed SOAP 1.1 envelope.
type Envelope struct {
	// Header is the soapenv:Header element, nil if absent.
	Header *etree.Element
	// Payload is the first element of the soapenv:Body: an operation's
	// message or a soapenv:Fault.
	Payload *etree.Element
}

// errNoDTD refuses answers with a document type declaration: none is needed,
// and refusing it rules out entity expansion whatever the parser does.
var errNoDTD = errors.New("the document holds a DTD (<!DOCTYPE), which is not allowed")

// MaxEnvelopeNodes caps the nodes (elements, attributes, runs of text,
// comments, processing instructions) of an envelope ReadEnvelope accepts. etree costs
// about a hundred bytes a node, so a 4 MiB answer of a million empty elements
// would hold over 100 MiB; at this cap an answer holds a few MiB. A page of
// DeyisiklikleriAl costs about 17 nodes a change, so over a thousand changes
// still fit.
const MaxEnvelopeNodes = 20_000

// ReadEnvelope parses a SOAP 1.1 envelope and finds its header and payload.
// An envelope with more than MaxEnvelopeNodes nodes or any DTD is refused
// before a tree is built.
func ReadEnvelope(data []byte) (*Envelope, error) {
	if err := precheck(data); err != nil {
		return nil, err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("not well-formed XML: %w", err)
	}
	root := doc.Root()
	if root == nil || root.Tag != "Envelope" || root.NamespaceURI() != SOAPNamespace {
		return nil, errors.New("the document is not a SOAP 1.1 envelope")
	}
	body := ChildNS(root, SOAPNamespace, "Body")
	if body == nil {
		return nil, errors.New("the SOAP envelope has no Body")
	}
	payload := firstElement(body)
	if payload == nil {
		return nil, errors.New("the SOAP Body is empty")
	}
	return &Envelope{Header: ChildNS(root, SOAPNamespace, "Header"), Payload: payload}, nil
}

// maxTokenBytes caps one token of an envelope: a tag with its attributes, a
// run of text, a comment. encoding/xml gathers a whole tag's attributes
// before it returns, so without this a single tag of a million attributes
// would allocate hundreds of MiB before any count could stop it. A note of
// 4,000 characters is at most 16 KiB.
const maxTokenBytes = 64 << 10

// precheck streams through data's tokens without building a tree: etree has
// a depth limit but none on the count of nodes. Any <!...> other than a
// comment or CDATA is a directive, so this also refuses every DTD, wherever
// it stands. The decoder is set up as etree's own (strict, charset passed
// through), so what passes here is what etree reads.
func precheck(data []byte) error {
	r := &tokenReader{data: data}
	d := xml.NewDecoder(r)
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	for nodes := 0; ; {
		r.mark = r.pos
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return errNoDTD
		case xml.EndElement:
			continue
		case xml.StartElement:
			nodes += len(t.Attr) // etree keeps each attribute as a value of its own
		}
		if nodes++; nodes > MaxEnvelopeNodes {
			return fmt.Errorf("the document has more than %d nodes", MaxEnvelopeNodes)
		}
	}
}

// tokenReader hands data to an xml.Decoder byte by byte (being an
// io.ByteReader, the decoder reads no further ahead) and fails once one token
// has taken more than maxTokenBytes since mark.
type tokenReader struct {
	data      []byte
	pos, mark int
}

var errTokenTooLong = fmt.Errorf("a tag or text is longer than %d bytes", maxTokenBytes)

func (r *tokenReader) ReadByte() (byte, error) {
	if r.pos >= len(r.data) {
		return 0, io.EOF
	}
	if r.pos-r.mark > maxTokenBytes {
		return 0, errTokenTooLong
	}
	b := r.data[r.pos]
	r.pos++
	return b, nil
}

func (r *tokenReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	b, err := r.ReadByte()
	if err != nil {
		return 0, err
	}
	p[0] = b
	return 1, nil
}

// Child returns the first child of e named local in the ESD namespace.
func Child(e *etree.Element, local string) *etree.Element {
	return ChildNS(e, Namespace, local)
}

// ChildNS returns the first child of e named local in namespace ns, or nil.
func ChildNS(e *etree.Element, ns, local string) *etree.Element {
	if e == nil {
		return nil
	}
	for _, c := range e.ChildElements() {
		if c.Tag == local && c.NamespaceURI() == ns {
			return c
		}
	}
	return nil
}

// Text returns the text of e's child named local in the ESD namespace, trimmed.
func Text(e *etree.Element, local string) string {
	if c := Child(e, local); c != nil {
		return strings.TrimSpace(c.Text())
	}
	return ""
}

func firstElement(e *etree.Element) *etree.Element {
	if cs := e.ChildElements(); len(cs) > 0 {
		return cs[0]
	}
	return nil
}

// Is reports whether e is the element named local in the ESD namespace.
func Is(e *etree.Element, local string) bool {
	return e != nil && e.Tag == local && e.NamespaceURI() == Namespace
}

// NewPayload starts an operation's message: an element in the ESD namespace
// that declares the namespace itself, so it stands alone once taken out of
// the envelope (as the schema tests do).
func NewPayload(local string) *etree.Element {
	e := etree.NewElement("esd:" + local)
	e.CreateAttr("xmlns:esd", Namespace)
	return e
}

// Add appends a child element in the ESD namespace with the given text.
func Add(parent *etree.Element, local, text string) *etree.Element {
	e := parent.CreateElement("esd:" + local)
	e.SetText(text)
	return e
}

// addOptional appends the child only if text is not empty: the XSD's
// optional elements are left out rather than sent empty.
func addOptional(parent *etree.Element, local, text string) {
	if text != "" {
		Add(parent, local, text)
	}
}

// NewEnvelope wraps a payload into a SOAP 1.1 envelope; a non-nil header
// element goes into soapenv:Header.
func NewEnvelope(header, payload *etree.Element) *etree.Document {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0" encoding="UTF-8"`)
	env := doc.CreateElement("soapenv:Envelope")
	env.CreateAttr("xmlns:soapenv", SOAPNamespace)
	if header != nil {
		env.CreateElement("soapenv:Header").AddChild(header)
	}
	env.CreateElement("soapenv:Body").AddChild(payload)
	doc.Indent(2)
	return doc
}

// usernameToken is the wsse:Security header the WSDL asks of every call.
func usernameToken(username, password string) *etree.Element {
	sec := etree.NewElement("wsse:Security")
	sec.CreateAttr("xmlns:wsse", WSSENamespace)
	sec.CreateAttr("soapenv:mustUnderstand", "1")
	tok := sec.CreateElement("wsse:UsernameToken")
	tok.CreateElement("wsse:Username").SetText(username)
	pw := tok.CreateElement("wsse:Password")
	pw.CreateAttr("Type", PasswordText)
	pw.SetText(password)
	return sec
}

// Credentials returns the user name and password of an envelope's
// UsernameToken; ok is false if there is none or its password is not PasswordText.
func (e *Envelope) Credentials() (username, password string, ok bool) {
	sec := ChildNS(e.Header, WSSENamespace, "Security")
	tok := ChildNS(sec, WSSENamespace, "UsernameToken")
	user := ChildNS(tok, WSSENamespace, "Username")
	pw := ChildNS(tok, WSSENamespace, "Password")
	if user == nil || pw == nil {
		return "", "", false
	}
	if t := pw.SelectAttrValue("Type", PasswordText); t != PasswordText {
		return "", "", false
	}
	return user.Text(), pw.Text(), true
}

// FaultError is a SOAP fault from ESD. The client returns it inside a
// *routers.TransientError or *routers.PermanentError.
type FaultError struct {
	// Code is the Xeta detail's Kod, e.g. SISTEM_MESGUL; empty for a
	// fault without a Xeta detail.
	Code string
	// Message is the Xeta detail's Mesaj, or the faultstring.
	Message string
	// Existing is MovcudNomre, the number of an appeal already registered (TEKRAR).
	Existing string
	// FaultCode is the SOAP faultcode, e.g. soapenv:Server.
	FaultCode string
}

func (e *FaultError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("SOAP fault %s: %s", e.FaultCode, e.Message)
	}
	return fmt.Sprintf("ESD fault %s: %s", e.Code, e.Message)
}

// readFault reads a soapenv:Fault, or returns nil if payload is not one.
func readFault(payload *etree.Element) *FaultError {
	if payload.Tag != "Fault" || payload.NamespaceURI() != SOAPNamespace {
		return nil
	}
	// faultcode, faultstring and detail are unqualified in SOAP 1.1.
	f := &FaultError{
		FaultCode: strings.TrimSpace(payload.SelectElement("faultcode").NotNil().Text()),
		Message:   strings.TrimSpace(payload.SelectElement("faultstring").NotNil().Text()),
	}
	if x := Child(payload.SelectElement("detail"), "Xeta"); x != nil {
		f.Code = Text(x, "Kod")
		if m := Text(x, "Mesaj"); m != "" {
			f.Message = m
		}
		f.Existing = Text(x, "MovcudNomre")
	}
	return f
}

// NewFault builds the soapenv:Fault ESD answers with: a Client or Server
// faultcode, the message as faultstring and a Xeta detail.
func NewFault(code, message, existing string) *etree.Element {
	f := etree.NewElement("soapenv:Fault")
	faultcode := "soapenv:Client"
	if code == CodeBusy {
		faultcode = "soapenv:Server"
	}
	f.CreateElement("faultcode").SetText(faultcode)
	f.CreateElement("faultstring").SetText(message)
	x := NewPayload("Xeta")
	Add(x, "Kod", code)
	Add(x, "Mesaj", message)
	addOptional(x, "MovcudNomre", existing)
	f.CreateElement("detail").AddChild(x)
	return f
}
