module github.com/compat/headerplugin

go 1.22
