import type { Command, Option } from 'commander';

/**
 * Shell completion scripts for bash and zsh, generated from the command tree itself: subcommands after `flinkops`
 * (and after `schedule`, `watch`, `setup`), then the options of the command typed so far, with the choices of options
 * that have them (-o json|yaml|wide, --mode ...).
 */
export function completionScript(program: Command, shell: 'bash' | 'zsh'): string {
  const entries: string[] = [];
  const walk = (command: Command, path: string) => {
    const words = [...command.commands.map((c) => c.name()), ...command.options.flatMap(optionWords), ...(command.parent ? [] : program.options.flatMap(optionWords))];
    entries.push(`${path}|${[...new Set(words)].join(' ')}`);
    for (const option of command.options) {
      if (option.argChoices) for (const flag of optionWords(option)) entries.push(`${path}:${flag}|${option.argChoices.join(' ')}`);
    }
    for (const sub of command.commands) walk(sub, path ? `${path} ${sub.name()}` : sub.name());
  };
  walk(program, '');
  const table = entries.map((e) => `    "${e}"`).join('\n');
  const bash = `# flinkops completion for bash: source it, or put it in your bash-completion directory.
_flinkops() {
  local entries=(
${table}
  )
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" word entry
  for word in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    for entry in "\${entries[@]}"; do
      if [[ "\${entry%%|*}" == "\${path:+$path }$word" ]]; then path="\${path:+$path }$word"; break; fi
    done
  done
  for entry in "\${entries[@]}"; do
    if [[ "\${entry%%|*}" == "$path:$prev" ]]; then COMPREPLY=($(compgen -W "\${entry#*|}" -- "$cur")); return; fi
  done
  for entry in "\${entries[@]}"; do
    if [[ "\${entry%%|*}" == "$path" ]]; then COMPREPLY=($(compgen -W "\${entry#*|}" -- "$cur")); return; fi
  done
}
complete -F _flinkops flinkops
`;
  if (shell === 'bash') return bash;
  return `# flinkops completion for zsh: "source <(flinkops completion zsh)" in ~/.zshrc (bash completion's logic, through bashcompinit).
autoload -U +X bashcompinit && bashcompinit
${bash}`;
}

function optionWords(option: Option): string[] {
  return [option.long, option.short].filter((w): w is string => Boolean(w));
}
