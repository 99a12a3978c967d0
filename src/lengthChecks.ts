import * as z from 'zod/mini';

// zod's length checks as refinements: z.minLength and z.maxLength would ship their own check classes to
// the page for these few bounds (0.24 kB, min + gzip), where refinements are there anyway. They behave as
// zod's do: they run on any value that has a length, one of the wrong type too (`[]` as a key is told
// both that it is no string and that it is empty), and count a string's length in code points.

type HasLength = { readonly length: number };

const hasLength = ({ value }: { value: unknown }) => value !== undefined && value !== null && (value as Partial<HasLength>).length !== undefined;

/** `z.minLength(1)`: a string of one UTF-16 unit or more has one code point or more. */
export const nonEmpty = (error?: string) => z.refine<HasLength>((value) => value.length >= 1, { error, when: hasLength });

/** `z.maxLength(max)`: a string counted in code points only when its UTF-16 units are too many. */
export const lengthAtMost = (max: number, error?: string) =>
  z.refine<HasLength>((value) => value.length <= max || (typeof value === 'string' && [...value].length <= max), { error, when: hasLength });

/**
 * A string with a character other than white space, one error for both failures. A refinement, not
 * z.regex: zod's format checks would ship to the page for this pattern and three others.
 */
export const nonBlank = (error: string) => z.string({ error }).check(z.refine((value) => /\S/.test(value), { error }));
