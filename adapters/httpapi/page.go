package httpapi

// pageRoutes registers the registration page; see issue "The registration
// page". Until then verifyd serves the API only.
func (s *Server) pageRoutes() {}
