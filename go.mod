module github.com/recgate/recgate

go 1.23

require github.com/qmuntal/stateless v1.7.2
