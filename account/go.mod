module example.com/bookstore/account

go 1.26
