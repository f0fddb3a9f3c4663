// Package schemas embeds the contracts and data the hub is built on: the
// district list and holiday calendar from shared/data, the service catalogue,
// the ESD vendor's WSDL/XSD, the SQL migrations of the ledger and the
// OpenAPI description of the HTTP API.
package schemas

import "embed"

// Districts is ../shared/data/districts.json: every ISO 3166-2:AZ code a config may name.
//
//go:embed districts.json
var Districts []byte

// Holidays is ../shared/data/holidays.json: non-working days for 2025–2027 with sources.
//
//go:embed holidays.json
var Holidays []byte

// Migrations holds the ledger's numbered SQL migrations (goose format).
//
//go:embed migrations/*.sql
var Migrations embed.FS

// ESD holds the ESD vendor's WSDL and XSD, unchanged.
//
//go:embed esd/*
var ESD embed.FS

// Services is the service catalogue: the 21 services of contract §1 as Open311
// GeoReport v2 service definitions, with their form attributes in Azerbaijani and English.
//
//go:embed services.json
var Services []byte

// OpenAPI is the OpenAPI 3.1 description of the hub's whole HTTP API, served
// at GET /openapi.yaml; the httpapi tests check every exchange against it.
//
//go:embed openapi.yaml
var OpenAPI []byte
