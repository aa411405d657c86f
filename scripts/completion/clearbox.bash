# bash completion for clearbox (installed as share/bash-completion/completions/clearbox).

_clearbox() {
  local cur prev words cword
  _init_completion || return
  local commands="scan diff equiv assess report unpack checksec probe serve worker batch db keygen attest log verify witness"
  local limits="--max-depth --max-total-bytes --max-files --max-ratio --handler-timeout --threads -j"

  # The subcommand (and a second level for db, log and witness).
  local command="" sub="" i
  for ((i = 1; i < cword; i++)); do
    case "${words[i]}" in
      -*) ;;
      *) if [[ -z $command ]]; then command=${words[i]}; elif [[ -z $sub ]]; then sub=${words[i]}; fi ;;
    esac
  done

  case "$prev" in
    -o|--output|--data-dir) [[ $command == report ]] && _filedir html || _filedir -d; return ;;
    --db|--vex|--declarations|--compliance|--key|--proof|--log-key|--attester-key|--witness-key|--libc|\
    --old-checkpoint|--consistency-proof) _filedir; return ;;
    --fail-on)
      if [[ $command == diff ]]; then
        COMPREPLY=($(compgen -W "regression" -- "$cur"))
      else
        COMPREPLY=($(compgen -W "info low medium high critical" -- "$cur"))
      fi
      return ;;
    --no-tolerate)
      COMPREPLY=($(compgen -W "build-id gnu-debuglink debug-info symbol-table build-path
                               build-timestamp section-layout module-signature gzip-header pyc-header archive-metadata" -- "$cur"))
      return ;;
    -s|--standard)
      COMPREPLY=($(compgen -W "all en303645 cra ts33117 iec62443-4-2 en18031-1" -- "$cur"))
      return ;;
  esac

  if [[ -z $command ]]; then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  local options="--help"
  case "$command" in
    scan) options="-o --output --data-dir --fail-on --db --no-vuln --vex --standard
                   --declarations --timestamp --quiet $limits" ;;
    diff) options="-o --output --fail-on --standard --quiet --data-dir --db
                   --no-vuln --vex --timestamp $limits" ;;
    equiv) options="-o --output --no-tolerate --quiet $limits" ;;
    assess) options="-o --output --standard --declarations --data-dir --quiet" ;;
    report) options="--compliance --probe -o --output" ;;
    unpack) options="-o --output $limits" ;;
    checksec) options="--libc --json" ;;
    probe) options="-o --output --report --timeout --concurrency --data-dir --try-anonymous-ftp --snmp --snmp-port --ssdp --ssdp-port" ;;
    serve) options="--data --db --listen --init-admin --secure-cookies --workers --max-upload-mb
                    --access-log --check-audit" ;;
    worker) options="--data --db --workers --lease" ;;
    batch) options="-o --output -j --jobs --timeout --standard --db --no-vuln --keep-unpacked
                    --quiet" ;;
    keygen) options="-o --output --cosigner" ;;
    attest) options="--key -o --output" ;;
    verify) options="--proof --log-key --attester-key --witness-key --old-checkpoint
                     --consistency-proof" ;;
    db) [[ -z $sub ]] && { COMPREPLY=($(compgen -W "import info match update" -- "$cur")); return; } ;;
    log) [[ -z $sub ]] && { COMPREPLY=($(compgen -W "init append proof serve check" -- "$cur")); return; } ;;
    witness) [[ -z $sub ]] && { COMPREPLY=($(compgen -W "cosign serve" -- "$cur")); return; } ;;
  esac
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "--help $options" -- "$cur"))
  else
    _filedir
  fi
}
complete -F _clearbox clearbox
