# Shared helpers for the setup steps: a stamp file per step records the hash of its inputs.
stamp_ok() { # stamp_ok NAME INPUT_FILES... -> 0 if the stamp matches the inputs' hash
  local name=$1; shift
  local want; want=$(cat "$@" | sha256sum | cut -d' ' -f1)
  [[ -f ".tools/$name.stamp" && "$(cat ".tools/$name.stamp")" == "$want" ]]
}
stamp_write() {
  local name=$1; shift
  cat "$@" | sha256sum | cut -d' ' -f1 > ".tools/$name.stamp"
}
make_venv() { # make_venv DIR REQUIREMENTS
  local dir=$1 req=$2
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check --upgrade pip
  "$dir/bin/pip" install --quiet --disable-pip-version-check -r "$req"
}
