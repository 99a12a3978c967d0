/**
 * A short, safe rendering of any value for an error message: JSON where it can be, and never a throw
 * (BigInts, cycles, symbols and functions defeat JSON.stringify, and bad input is full of them).
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return 'a function';
    case 'undefined':
      return 'undefined';
    case 'object': {
      if (value === null) return 'null';
      let kind = 'an object';
      try {
        // Asked in here: it throws for a revoked Proxy ("an object"). A toJSON that answers undefined fails at .length.
        if (Array.isArray(value)) kind = 'an array';
        const text = JSON.stringify(value);
        return text.length > 80 ? `${text.slice(0, 80)}…` : text;
      } catch {
        return kind;
      }
    }
    default:
      return String(value);
  }
}

/** What went wrong, for an error message: an Error's message, or whatever else was thrown, described. */
export function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : describeValue(error);
}

/** reasonOf with the error's kind first, where it says more than "Error": "SyntaxError: The URL … is invalid." */
export function namedReasonOf(error: unknown): string {
  const name = error instanceof Error && error.name !== 'Error' ? `${error.name}: ` : '';
  return name + reasonOf(error);
}
