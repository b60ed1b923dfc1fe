# fish completion for mogplex. Install: copy to ~/.config/fish/completions/mogplex.fish.
# The candidates come from mogplex itself (System.CommandLine's [suggest] directive).
function __mogplex_complete
    set -l line (commandline -cp)
    mogplex "[suggest:"(string length -- "$line")"]" "$line" 2>/dev/null
end
complete -c mogplex -f -a '(__mogplex_complete)'
