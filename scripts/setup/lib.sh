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
ensure_venv() { # ensure_venv NAME: .tools/NAME from scripts/setup/requirements-NAME.txt, unless up to date
  local name=$1 req=scripts/setup/requirements-$1.txt
  if stamp_ok "venv-$name" "$req" && [[ -x .tools/$name/bin/python ]]; then
    echo "    .tools/$name is up to date"
  else
    echo "    creating .tools/$name from $req"
    make_venv ".tools/$name" "$req"
    stamp_write "venv-$name" "$req"
  fi
}
