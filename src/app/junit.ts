// JUnit XML, the report format CI systems read: one <testsuite> per group, one <testcase> per check, failures with
// their text. Escaping covers markup, attribute whitespace and the characters XML 1.0 cannot hold at all.

export interface JUnitCase {
  classname: string;
  name: string;
  ms: number;
  failure?: { message: string; text: string };
}

export interface JUnitSuite {
  name: string;
  cases: JUnitCase[];
}

export function junitXml(suites: JUnitSuite[], name: string): string {
  const all = suites.flatMap((s) => s.cases);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites ${attrs({ name, ...counts(all) })}>`];
  for (const suite of suites) {
    lines.push(`  <testsuite ${attrs({ name: suite.name, ...counts(suite.cases), errors: 0, skipped: 0 })}>`);
    for (const c of suite.cases) {
      const head = `    <testcase ${attrs({ classname: c.classname, name: c.name, time: seconds(c.ms) })}`;
      if (!c.failure) {
        lines.push(`${head}/>`);
        continue;
      }
      lines.push(
        `${head}>`,
        `      <failure ${attrs({ message: c.failure.message, type: 'failure' })}>${text(c.failure.text)}</failure>`,
        '    </testcase>',
      );
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return `${lines.join('\n')}\n`;
}

function counts(cases: JUnitCase[]): { tests: number; failures: number; time: string } {
  return {
    tests: cases.length,
    failures: cases.filter((c) => c.failure).length,
    time: seconds(cases.reduce((sum, c) => sum + c.ms, 0)),
  };
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function attrs(values: Record<string, string | number>): string {
  return Object.entries(values)
    .map(
      ([k, v]) =>
        `${k}="${text(String(v)).replace(/"/g, '&quot;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;')}"`,
    )
    .join(' ');
}

/** Character data: markup escaped; control characters, lone surrogates and U+FFFE/FFFF (not XML at all) replaced. */
function text(value: string): string {
  return value
    .replace(
      /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g,
      '\uFFFD',
    )
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}
