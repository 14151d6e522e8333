module example.com/compat/resolveprobe

go 1.23.0
