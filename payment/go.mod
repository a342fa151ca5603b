module example.com/bookstore/payment

go 1.26
