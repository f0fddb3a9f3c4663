package esd

import (
	"bytes"
	"errors"
	"fmt"
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

// ReadEnvelope parses a SOAP 1.1 envelope and finds its header and payload.
func ReadEnvelope(data []byte) (*Envelope, error) {
	if bytes.Contains(bytes.ToUpper(data), []byte("<!DOCTYPE")) {
		return nil, errNoDTD
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(data); err != nil {
		return nil, fmt.Errorf("not well-formed XML: %w", err)
	}
	for _, tok := range doc.Child {
		if _, ok := tok.(*etree.Directive); ok {
			return nil, errNoDTD
		}
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
