import type { MultilinePreset } from '../multiline-options.js';
import { jsonRule } from './json-rule.js';
import type { LineRule } from './line-rule.js';

/** Indented (a tab or spaces, then something). */
const INDENTED = /^[ \t]+\S/;

/**
 * Java: the exception line that follows a log line (`java.lang.X: msg`,
 * `com.acme.Foo$BarError`), indented frames (`\tat …`, `\t... 12 more`,
 * `\tSuppressed: …`, `\t... 3 common frames omitted`) and `Caused by: …`
 * continue the record; any other line starts one. `Exception in thread
 * "main" …` (the uncaught handler) starts one.
 */
const JAVA_CONTINUE =
  /^[ \t]+\S|^Caused by: |^(?:[a-zA-Z_$][\w$]*\.)+[a-zA-Z_$][\w$]*(?:Exception|Error|Throwable)[\w$]*(?::|$)/;

function javaRule(): LineRule {
  return {
    classify: (text) => (JAVA_CONTINUE.test(text) ? 'continue' : 'start'),
    reset: () => undefined,
  };
}

const PY_TRACEBACK = /^Traceback \(most recent call last\):\s*$/;
const PY_CHAIN =
  /^(?:During handling of the above exception, another exception occurred:|The above exception was the direct cause of the following exception:)\s*$/;

/**
 * Python: `Traceback (most recent call last):` continues the record of the
 * log line before it (`logger.exception`) and opens a traceback; inside
 * it, indented lines (`File …`, code, `^^^^` markers, exception groups)
 * continue, and the first line that is not indented is the exception
 * (`ValueError: bad`), which continues too. After it, blank lines and the
 * chaining sentences continue (a chained traceback follows); any other
 * line starts a record.
 */
function pythonRule(): LineRule {
  let state: 'none' | 'trace' | 'after' = 'none';
  return {
    classify(text) {
      if (PY_TRACEBACK.test(text) || PY_CHAIN.test(text)) {
        state = 'trace';
        return 'continue';
      }
      if (INDENTED.test(text)) return 'continue';
      if (state === 'trace') {
        if (text.trim() === '') return 'continue';
        state = 'after';
        return 'continue';
      }
      if (state === 'after' && text.trim() === '') return 'continue';
      state = 'none';
      return 'start';
    },
    reset() {
      state = 'none';
    },
  };
}

const GO_PANIC = /^(?:panic: |fatal error: )/;
const GO_GOROUTINE = /^goroutine \d+.*\[.*\]:\s*$/;
/** Lines of a Go stack dump that are not indented: frames, headers. */
const GO_DUMP =
  /^(?:\[signal |created by |\.\.\.additional frames elided\.\.\.|\S+\(.*\)$)/;

/**
 * Go: `panic: …` and `fatal error: …` start a record and open a dump; a
 * `goroutine N [state]:` header continues the record before it (and opens
 * a dump: `http: panic serving …` is a log line followed by one). Inside
 * a dump, blank lines, goroutine headers, indented lines, function frames
 * (`main.main()`, `net/http.(*conn).serve(…)`), `[signal …`, `created by …`
 * continue; `exit status N` (from `go run`) ends the record; any other
 * line starts one and closes the dump.
 */
function goRule(): LineRule {
  let inDump = false;
  return {
    classify(text) {
      if (GO_PANIC.test(text)) {
        inDump = true;
        return 'start';
      }
      if (GO_GOROUTINE.test(text)) {
        inDump = true;
        return 'continue';
      }
      if (inDump) {
        if (text.trim() === '' || INDENTED.test(text) || GO_DUMP.test(text))
          return 'continue';
        inDump = false;
        if (/^exit status \d+$/.test(text)) return 'end';
      }
      return 'start';
    },
    reset() {
      inDump = false;
    },
  };
}

/** A fresh rule of `preset`. */
export function presetRule(preset: MultilinePreset): LineRule {
  switch (preset) {
    case 'java':
      return javaRule();
    case 'python':
      return pythonRule();
    case 'go':
      return goRule();
    case 'json':
      return jsonRule();
  }
}
