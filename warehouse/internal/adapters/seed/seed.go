// Package seed holds the warehouse's seed data and the parser that reads it.
//
// data.sql is Fenix's Bookstore seed (github.com/fenixsoft/microservice_arch_kubernetes,
// Apache-2.0), kept byte for byte, quirks included (see Parse).
package seed

import (
	_ "embed"
)

//go:embed data.sql
var dataSQL string

// Data returns the INSERT statements of the seed.
func Data() ([]Insert, error) { return Parse(dataSQL) }
