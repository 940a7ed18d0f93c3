# Conveniences; the README's two commands are ./scripts/dev.sh demo and ./scripts/dev.sh test.
.PHONY: demo test bench
demo:
	./scripts/dev.sh demo
test:
	./scripts/dev.sh test
bench:
	.venv/bin/python benchmarks/pipeline.py --n 100000
