module example.com/bookstore/e2e

go 1.26
