import { describe, expect, it } from 'vitest';
import { CONTENT_TYPES, SmartCacheConfig } from '../src/index';
import { DEMO_CONFIG } from '../demo/demoConfig';

describe('the demo’s config', () => {
  // The inspector shows each type's description (a row's tooltip) beside its TTL: they must agree.
  it('describes each built-in type whose TTL it changes in its own words, not the library’s (which name the default TTL)', () => {
    const demo = new SmartCacheConfig(DEMO_CONFIG);
    const library = new SmartCacheConfig();
    const namesADuration = (text: string) => /second|minute|hour|day|week|month|year\b|monthly|daily/i.test(text);
    const changed = CONTENT_TYPES.filter((type) => demo.getTtl(type) !== library.getTtl(type) && namesADuration(library.getPolicy(type).description));
    expect(changed).toContain('failed_api_lookup');
    expect(changed).toContain('album_year');
    for (const type of changed) expect(demo.getPolicy(type).description, type).not.toBe(library.getPolicy(type).description);
    expect(demo.getPolicy('failed_api_lookup').description).toContain('30 seconds');
    expect(demo.getPolicy('album_year').description).toContain('two minutes');
  });
});
