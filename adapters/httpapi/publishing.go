package httpapi

// publishingRoutes registers the publishing routes (spec §6, §7): tags,
// channels, categories, votes, stats, comments and the feed.
func (s *Server) publishingRoutes() {}
