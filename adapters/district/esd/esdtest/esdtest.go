// Package esdtest checks SOAP envelopes against the ESD vendor's XSD with
// xmllint (Debian's libxml2-utils), for the adapter's own tests and the
// hub's end-to-end tests.
package esdtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"

	"github.com/korpu-az/korpu/adapters/district/esd"
	"github.com/korpu-az/korpu/schemas"
)

// ErrNoXmllint: xmllint is not installed.
var ErrNoXmllint = errors.New("xmllint is missing: install it with `apt-get install -y libxml2-utils`")

// Validate checks the operation element (or a fault's Xeta) of every
// envelope against the vendor's XSD, in one run of xmllint. An envelope
// whose payload is a fault without Xeta has nothing to check.
func Validate(envelopes ...[]byte) error {
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		return ErrNoXmllint
	}
	dir, err := os.MkdirTemp("", "esdtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	xsd, err := schemas.ESD.ReadFile("esd/esd-muraciet-v1.xsd")
	if err != nil {
		return err
	}
	xsdPath := filepath.Join(dir, "esd-muraciet-v1.xsd")
	if err := os.WriteFile(xsdPath, xsd, 0o600); err != nil {
		return err
	}
	var files []string
	for i, envelope := range envelopes {
		doc, err := payloadDocument(envelope)
		if err != nil {
			return fmt.Errorf("envelope %d: %w", i, err)
		}
		if doc == nil {
			continue
		}
		file := filepath.Join(dir, fmt.Sprintf("payload-%05d.xml", i))
		if err := doc.WriteToFile(file); err != nil {
			return err
		}
		files = append(files, file)
	}
	if len(files) == 0 {
		return nil
	}
	out, err := exec.Command(xmllint, append([]string{"--noout", "--nonet", "--schema", xsdPath}, files...)...).CombinedOutput()
	if err != nil || strings.Count(string(out), " validates") != len(files) {
		return fmt.Errorf("payloads do not validate against the XSD (%w):\n%s", err, out)
	}
	return nil
}

// payloadDocument makes a document of an envelope's payload, carrying over
// the namespace declarations of its ancestors.
func payloadDocument(envelope []byte) (*etree.Document, error) {
	env, err := esd.ReadEnvelope(envelope)
	if err != nil {
		return nil, err
	}
	payload := env.Payload
	if payload.Tag == "Fault" {
		payload = esd.Child(payload.SelectElement("detail"), "Xeta")
		if payload == nil {
			return nil, nil
		}
	}
	root := payload.Copy()
	for p := payload.Parent(); p != nil; p = p.Parent() {
		for _, a := range p.Attr {
			if (a.Space == "xmlns" || (a.Space == "" && a.Key == "xmlns")) && root.SelectAttr(a.FullKey()) == nil {
				root.CreateAttr(a.FullKey(), a.Value)
			}
		}
	}
	doc := etree.NewDocument()
	doc.SetRoot(root)
	return doc, nil
}
