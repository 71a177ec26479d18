// Imports a module while dropping one console warning it prints as it loads: oidc-provider 9 warns that Node 20 is
// an unsupported runtime, which would only confuse idp's users (it works on 20; DESIGN.md records it).
export async function withoutWarning<T>(warning: string, load: () => Promise<T>): Promise<T> {
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes(warning)) return;
    warn.apply(console, args);
  };
  try {
    return await load();
  } finally {
    console.warn = warn;
  }
}
