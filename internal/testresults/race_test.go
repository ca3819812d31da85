//go:build race

package testresults

// The race detector slows the tokenizer tenfold: large tests shrink.
const raceEnabled = true
