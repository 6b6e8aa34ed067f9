# The README's two commands: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
# CPU wheel on this machine; override for GPUs, e.g. make test TORCH='torch --index-url https://download.pytorch.org/whl/cu128'
TORCH  ?= torch==2.13.0
BIN    := $(VENV)/bin

.PHONY: demo test install lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# everything: training, tests, the web server
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e '.[train,web,video,dev]'
	touch $@

# colorizing only (onnxruntime, no PyTorch)
$(VENV)/.installed-core: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

install: $(VENV)/.installed

demo: $(VENV)/.installed-core
	$(BIN)/autocolor colorize examples -o colorized --side-by-side

lint: install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts

test: lint
	$(BIN)/pytest -q

clean:
	rm -rf colorized .pytest_cache
