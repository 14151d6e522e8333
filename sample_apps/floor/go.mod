module example.com/compat/floor

go 1.23.0
