import { z } from 'zod';

type Issue = z.core.$ZodIssue;

/**
 * A strict object reports an unknown key with the object's own path; this
 * returns the issue with the key appended, so the error names the unknown
 * field itself (`bogus`, `quarantine.msec`) rather than its parent.
 */
function namedUnknownKey(issue: Issue, noun: string): Issue {
  if (issue.code !== 'unrecognized_keys' || issue.keys.length === 0) return issue;
  const rest = issue.keys.slice(1);
  return {
    ...issue,
    path: [...issue.path, issue.keys[0] as string],
    message: rest.length > 0 ? `is not a known ${noun} (nor are ${rest.join(', ')})` : `is not a known ${noun}`,
  };
}

/** First zod issue as [dotted path, one-line message], unknown keys named. */
export function firstIssue(err: z.ZodError): [string, string] {
  const first = err.issues[0];
  if (first === undefined) return ['', err.message.replace(/\s+/g, ' ')];
  const issue = namedUnknownKey(first, 'field');
  return [issue.path.map(String).join('.'), issue.message.replace(/\s+/g, ' ')];
}
