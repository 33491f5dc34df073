// Package domain holds verifyd's value objects, rules, errors and the ports the
// use cases need. It imports only the standard library so that the rules can be
// read, tested and embedded without any infrastructure.
package domain
