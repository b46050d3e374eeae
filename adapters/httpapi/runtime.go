package httpapi

// runtimeRoutes registers the runtime routes (spec §4.8, §4.9, §8.5, §9):
// logs, terminal, cleanup, import and export.
func (s *Server) runtimeRoutes() {}
