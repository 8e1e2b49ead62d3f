# reshoot: two commands do all the set-up on a fresh machine.
#   make test   build .venv (once), then run the test suite
#   make demo   build .venv (once), then run the main job on a default input
# Both are safe to run twice: the environment is rebuilt only when its inputs change.

PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
PIP    := $(PY) -m pip --disable-pip-version-check
# anny builds a ~100 s model cache on first construction; keep it (and warp's kernel
# cache) inside the checkout so it is built once, at install time.
export ANNY_CACHE_DIR  := $(CURDIR)/.cache/anny
export WARP_CACHE_PATH := $(CURDIR)/.cache/warp
STAMP  := $(VENV)/.installed
GLTF_VALIDATOR := 2.0.0-dev.3.10
VALIDATOR := .cache/node/node_modules/gltf-validator/package.json

.PHONY: install test demo system-deps clean-venv
.DEFAULT_GOAL := test

install: $(STAMP) $(VALIDATOR)

$(STAMP): pyproject.toml requirements/no-deps.txt scripts/system-deps.sh scripts/warm_caches.py
	bash scripts/system-deps.sh
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (reshoot needs Python 3.11)"; exit 1; }
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade "pip>=24" "setuptools>=77" wheel
	# torch first, pinned, so nothing later resolves a CUDA build
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[test]"
	$(PIP) install -q --no-deps -r requirements/no-deps.txt
	$(PY) scripts/warm_caches.py
	touch $@

# the Khronos glTF validator, for the tests of scene.glb
$(VALIDATOR): scripts/system-deps.sh
	bash scripts/system-deps.sh
	npm install --silent --no-audit --no-fund --prefix .cache/node gltf-validator@$(GLTF_VALIDATOR)
	touch $@

test: install
	$(PY) -m pytest -q

demo: install
	$(VENV)/bin/reshoot demo --out runs/demo

clean-venv:
	rm -rf $(VENV)
