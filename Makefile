# The two commands of the README. Everything else is in scripts/dev.sh.
.PHONY: demo test bootstrap
demo:
	@scripts/dev.sh demo
test:
	@scripts/dev.sh test
bootstrap:
	@scripts/dev.sh bootstrap
