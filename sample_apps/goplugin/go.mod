module example.com/compat/goplugin

// One module for host and plugin: plugin.Open refuses a plugin built with a
// different toolchain or different versions of any shared package.
go 1.23.0
