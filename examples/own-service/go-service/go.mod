module example.com/team/orders

// Standard library only: the module builds offline, with no go.sum.
go 1.22
