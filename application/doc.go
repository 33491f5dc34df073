// Package application holds verifyd's use cases, one file each. They depend
// only on the domain's ports, so any store, renderer or SMS provider can be
// plugged in by the code that wires them.
package application
