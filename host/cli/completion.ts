import { COMMON_OPTIONS, type Command } from "./command.ts";

/** A bash completion script (zsh with bashcompinit too): commands, then each command's options. */
export function completionScript(commands: Record<string, Command>): string {
  const common = Object.keys(COMMON_OPTIONS).map((o) => `--${o}`).join(" ");
  const cases = Object.entries(commands)
    .map(([name, c]) => `    ${name}) opts="${Object.keys(c.options).map((o) => `--${o}`).join(" ")} ${common}" ;;`)
    .join("\n");
  return `# hangar bash completion: source <(hangar completion)
_hangar() {
  local cur=\${COMP_WORDS[COMP_CWORD]} opts
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${Object.keys(commands).join(" ")} completion --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
    *) opts="${common}" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -F _hangar hangar
`;
}
