module example.com/bookstore/local-cluster-pause

go 1.26
