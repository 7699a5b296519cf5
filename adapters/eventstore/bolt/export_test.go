package bolt

// SetImportChunk makes Import commit every n events, for tests of imports that span several
// transactions; it returns the function that restores the default.
func SetImportChunk(n int) (restore func()) {
	old := importChunkEvents
	importChunkEvents = n
	return func() { importChunkEvents = old }
}
