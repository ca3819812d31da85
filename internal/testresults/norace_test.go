//go:build !race

package testresults

const raceEnabled = false
