module example.com/bookstore/common

go 1.26
