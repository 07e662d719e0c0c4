// Placeholder so the library has a source until the first real file lands; delete it then.
