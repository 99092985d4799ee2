import type { OurRole } from './types.ts';

// Regions name the same role differently; the imported label is kept, the role is what rules use.
const ROLE_BY_LABEL: Record<string, OurRole> = {
  主办: 'lead',
  独办: 'sole',
  承办: 'sole',
  单独办理: 'sole',
  分办: 'separate',
  会办: 'assisting',
  协办: 'assisting',
  汇办: 'assisting',
  参办: 'assisting',
};

/** The role a 办理类别 label stands for, or null when the label is not one we know. */
export function roleFromLabel(label: string): OurRole | null {
  const key = label.trim();
  return Object.hasOwn(ROLE_BY_LABEL, key) ? (ROLE_BY_LABEL[key] ?? null) : null;
}

/** Every label the import understands, for error messages. */
export const KNOWN_ROLE_LABELS: readonly string[] = Object.keys(ROLE_BY_LABEL);
