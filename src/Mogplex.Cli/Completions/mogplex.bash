# bash completion for mogplex. Install: source this file from ~/.bashrc, or copy it to
# /usr/share/bash-completion/completions/mogplex. The candidates come from mogplex itself
# (System.CommandLine's [suggest] directive), so they always match the installed version.
_mogplex() {
  local IFS=$'\n'
  local line=${COMP_LINE:0:COMP_POINT}
  COMPREPLY=($(compgen -W "$(mogplex "[suggest:${#line}]" "$line" 2>/dev/null)" -- "${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _mogplex mogplex
