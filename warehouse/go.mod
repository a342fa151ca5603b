module example.com/bookstore/warehouse

go 1.26
