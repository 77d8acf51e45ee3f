"""The whole system on one machine, built from the synthesized template: moto for AWS, a local
HTTP gateway for API Gateway, a stand-in CallFire. Tests, `make local` and `make demo` use it."""
