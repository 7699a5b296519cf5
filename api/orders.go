package api

func (s *Server) orderRoutes() []route { return nil }

func (s *Server) contractRoutes() []route { return nil }
