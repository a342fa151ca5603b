module example.com/bookstore/gateway

go 1.26
