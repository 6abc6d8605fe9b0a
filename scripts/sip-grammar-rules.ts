/**
 * Translates the bytecode of sip.js's peggy grammar (its `optimize: "size"` output, run by the generic
 * interpreter `peg$parseRule`) into one JavaScript function per rule, as peggy's own `optimize: "speed"`
 * code generator does from the same bytecode: each interpreter stack slot becomes a local variable
 * (`s0`, `s1`, …), each conditional or loop instruction becomes an `if` or `while` around the code of
 * its branches, and every other instruction becomes the statement the interpreter executes for it.
 *
 * Why: interpreting the bytecode was most of the raw INVITE's parse (issue 19): a `switch` per
 * instruction, an array for the stack, two more for the branch returns, and every action called through
 * `Function.prototype.apply` with an array built for it. The translation is instruction for
 * instruction, in the same order, with the same constants and actions: the grammar, what it builds and
 * where it reports a failure are sip.js's (test/node/sip/compiled-grammar.test.ts compares both).
 */

/** The interpreter's opcodes (sip.js's dist/grammar.js, `peg$parseRule`). */
const OP = {
  PUSH: 0,
  PUSH_UNDEFINED: 1,
  PUSH_NULL: 2,
  PUSH_FAILED: 3,
  PUSH_EMPTY_ARRAY: 4,
  PUSH_CURR_POS: 5,
  POP: 6,
  POP_CURR_POS: 7,
  POP_N: 8,
  NIP: 9,
  APPEND: 10,
  WRAP: 11,
  TEXT: 12,
  IF: 13,
  IF_ERROR: 14,
  IF_NOT_ERROR: 15,
  WHILE_NOT_ERROR: 16,
  MATCH_ANY: 17,
  MATCH_STRING: 18,
  MATCH_STRING_IC: 19,
  MATCH_REGEXP: 20,
  ACCEPT_N: 21,
  ACCEPT_STRING: 22,
  FAIL: 23,
  LOAD_SAVED_POS: 24,
  UPDATE_SAVED_POS: 25,
  CALL: 26,
  RULE: 27,
  SILENT_FAILS_ON: 28,
  SILENT_FAILS_OFF: 29,
} as const;

/** What each argument-less push instruction pushes. */
const PUSHED: Record<number, string> = {
  [OP.PUSH_UNDEFINED]: "undefined",
  [OP.PUSH_NULL]: "null",
  [OP.PUSH_FAILED]: "peg$FAILED",
  [OP.PUSH_EMPTY_ARRAY]: "[]",
  [OP.PUSH_CURR_POS]: "peg$currPos",
};

/** The name of rule `index`'s function, and of constant `index` hoisted out of `peg$consts`. */
export const ruleFunction = (index: number) => `peg$rule${index}`;
export const constant = (index: number) => `peg$c${index}`;

/** The code of one rule's function; `used` collects the constants it reads. */
function ruleCode(index: number, bytecode: readonly number[], used: Set<number>): string {
  let sp = -1;
  let maxSp = -1;
  const slot = (at: number) => `s${at}`;
  const push = (value: string) => {
    sp++;
    maxSp = Math.max(maxSp, sp);
    return `${slot(sp)} = ${value};`;
  };
  const pop = () => slot(sp--);
  const popN = (n: number) => {
    const values = Array.from({ length: n }, (_, offset) => slot(sp - n + 1 + offset));
    sp -= n;
    return values;
  };
  const top = () => slot(sp);
  const fromTop = (depth: number) => slot(sp - depth);
  const c = (at: number) => {
    used.add(at);
    return constant(at);
  };

  function compile(code: readonly number[], depth: string): string[] {
    const lines: string[] = [];
    let ip = 0;
    const emit = (line: string) => lines.push(depth + line);
    /** A conditional instruction of `argCount` arguments before its two branch lengths. */
    const condition = (test: string, argCount: number) => {
      const base = argCount + 3;
      const thenLength = code[ip + base - 2]!;
      const elseLength = code[ip + base - 1]!;
      const baseSp = sp;
      ip += base;
      const thenCode = compile(code.slice(ip, ip + thenLength), `${depth}  `);
      const thenSp = sp;
      ip += thenLength;
      sp = baseSp;
      const elseCode = compile(code.slice(ip, ip + elseLength), `${depth}  `);
      ip += elseLength;
      if (thenSp !== sp) throw new Error(`rule ${index}: the branches of a condition move the stack differently`);
      emit(`if (${test}) {`);
      lines.push(...thenCode);
      if (elseLength > 0) {
        emit("} else {");
        lines.push(...elseCode);
      }
      emit("}");
    };
    while (ip < code.length) {
      const op = code[ip]!;
      switch (op) {
        case OP.PUSH:
          emit(push(c(code[ip + 1]!)));
          ip += 2;
          break;
        case OP.PUSH_UNDEFINED:
        case OP.PUSH_NULL:
        case OP.PUSH_FAILED:
        case OP.PUSH_EMPTY_ARRAY:
        case OP.PUSH_CURR_POS:
          emit(push(PUSHED[op]!));
          ip++;
          break;
        case OP.POP:
          pop();
          ip++;
          break;
        case OP.POP_CURR_POS:
          emit(`peg$currPos = ${pop()};`);
          ip++;
          break;
        case OP.POP_N:
          popN(code[ip + 1]!);
          ip += 2;
          break;
        case OP.NIP: {
          const value = pop();
          pop();
          emit(push(value));
          ip++;
          break;
        }
        case OP.APPEND: {
          const value = pop();
          emit(`${top()}.push(${value});`);
          ip++;
          break;
        }
        case OP.WRAP:
          emit(push(`[${popN(code[ip + 1]!).join(", ")}]`));
          ip += 2;
          break;
        case OP.TEXT:
          emit(push(`input.substring(${pop()}, peg$currPos)`));
          ip++;
          break;
        case OP.IF:
          condition(top(), 0);
          break;
        case OP.IF_ERROR:
          condition(`${top()} === peg$FAILED`, 0);
          break;
        case OP.IF_NOT_ERROR:
          condition(`${top()} !== peg$FAILED`, 0);
          break;
        case OP.WHILE_NOT_ERROR: {
          const bodyLength = code[ip + 1]!;
          const baseSp = sp;
          const test = `${top()} !== peg$FAILED`;
          ip += 2;
          const body = compile(code.slice(ip, ip + bodyLength), `${depth}  `);
          ip += bodyLength;
          if (sp !== baseSp) throw new Error(`rule ${index}: the body of a loop moves the stack`);
          emit(`while (${test}) {`);
          lines.push(...body);
          emit("}");
          break;
        }
        case OP.MATCH_ANY:
          condition("input.length > peg$currPos", 0);
          break;
        case OP.MATCH_STRING: {
          const literal = c(code[ip + 1]!);
          condition(`input.substr(peg$currPos, ${literal}.length) === ${literal}`, 1);
          break;
        }
        case OP.MATCH_STRING_IC: {
          const literal = c(code[ip + 1]!);
          condition(`input.substr(peg$currPos, ${literal}.length).toLowerCase() === ${literal}`, 1);
          break;
        }
        case OP.MATCH_REGEXP:
          condition(`${c(code[ip + 1]!)}.test(input.charAt(peg$currPos))`, 1);
          break;
        case OP.ACCEPT_N:
          emit(push(`input.substr(peg$currPos, ${code[ip + 1]!})`));
          emit(`peg$currPos += ${code[ip + 1]!};`);
          ip += 2;
          break;
        case OP.ACCEPT_STRING: {
          const literal = c(code[ip + 1]!);
          emit(push(literal));
          emit(`peg$currPos += ${literal}.length;`);
          ip += 2;
          break;
        }
        case OP.FAIL:
          emit(push("peg$FAILED"));
          emit(`if (peg$silentFails === 0) peg$fail(${c(code[ip + 1]!)});`);
          ip += 2;
          break;
        case OP.LOAD_SAVED_POS:
          emit(`peg$savedPos = ${fromTop(code[ip + 1]!)};`);
          ip += 2;
          break;
        case OP.UPDATE_SAVED_POS:
          emit("peg$savedPos = peg$currPos;");
          ip++;
          break;
        case OP.CALL: {
          // The interpreter reads every argument before it pops, then calls the action with `this` null.
          const action = c(code[ip + 1]!);
          const count = code[ip + 3]!;
          const args = code.slice(ip + 4, ip + 4 + count).map((depthFromTop) => fromTop(depthFromTop));
          popN(code[ip + 2]!);
          emit(push(`${action}.call(null${args.map((arg) => `, ${arg}`).join("")})`));
          ip += 4 + count;
          break;
        }
        case OP.RULE:
          emit(push(`${ruleFunction(code[ip + 1]!)}()`));
          ip += 2;
          break;
        case OP.SILENT_FAILS_ON:
          emit("peg$silentFails++;");
          ip++;
          break;
        case OP.SILENT_FAILS_OFF:
          emit("peg$silentFails--;");
          ip++;
          break;
        default:
          throw new Error(`rule ${index}: unknown opcode ${op} at ${ip}`);
      }
    }
    return lines;
  }

  const body = compile(bytecode, "        ");
  if (sp !== 0) throw new Error(`rule ${index}: ends with ${sp + 1} values on the stack, not one`);
  const slots = Array.from({ length: maxSp + 1 }, (_, at) => slot(at)).join(", ");
  return [`    function ${ruleFunction(index)}() {`, `        let ${slots};`, ...body, "        return s0;", "    }"].join("\n");
}

/**
 * Every rule's function, the constants they read hoisted out of `peg$consts`, and the interpreter's
 * entry point `peg$parseRule(index)` dispatching to them.
 */
export function compileRuleFunctions(bytecode: readonly (readonly number[])[]): string {
  const used = new Set<number>();
  const rules = bytecode.map((code, index) => ruleCode(index, code, used));
  const constants = [...used].sort((a, b) => a - b).map((at) => `    const ${constant(at)} = peg$consts[${at}];`);
  return [
    ...constants,
    ...rules,
    `    const peg$rules = [${bytecode.map((_, index) => ruleFunction(index)).join(", ")}];`,
    "    function peg$parseRule(index) {",
    "        return peg$rules[index]();",
    "    }",
    "",
  ].join("\n");
}
