package api

// billingRoutes are the billing endpoints of SPEC 12.
func (s *Server) billingRoutes() []route { return nil }
