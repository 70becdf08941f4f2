import { DEFAULT_FLINK_VERSION, FLINK2_VERSION } from '../../stack/flink/distribution';
import { FIXTURE_MAIN_CLASSES, FIXTURE_VERSIONS, fixtureJar, type FixtureVersion } from '../../stack/fixtures';

/**
 * The node's "image registry": container images map to local Flink distributions and fixture jars.
 * `flink:<version>` behaves like the official Flink image; `fixture-job:<version>` is that image with a fixture
 * job baked in (usrlib), for application mode.
 */
export interface LocalImage {
  flinkVersion: string;
  /** Jars on the classpath of every Flink process of the image. */
  userJars: string[];
  /** The job an application-mode JobManager of this image runs when no --job-classname is given. */
  defaultJobClass?: string;
}

const FLINK_IMAGES: Record<string, string> = {
  '1.20': DEFAULT_FLINK_VERSION,
  [DEFAULT_FLINK_VERSION]: DEFAULT_FLINK_VERSION,
  '1.20-java17': DEFAULT_FLINK_VERSION,
  '2.2': FLINK2_VERSION,
  [FLINK2_VERSION]: FLINK2_VERSION,
  '2.2-java17': FLINK2_VERSION,
};

/** Resolves an image reference, or says why it cannot be pulled. */
export function resolveImage(image: string): LocalImage | { error: string } {
  const match = /^(?:docker\.io\/)?(?:library\/|apache\/)?([a-z0-9._-]+):([A-Za-z0-9._-]+)$/.exec(image);
  if (!match) return { error: `invalid image reference "${image}"` };
  const [, name, tag] = match as unknown as [string, string, string];
  if (name === 'flink' && FLINK_IMAGES[tag]) return { flinkVersion: FLINK_IMAGES[tag], userJars: [] };
  if (name === 'fixture-job' && (FIXTURE_VERSIONS as readonly string[]).includes(tag)) {
    const version = tag as FixtureVersion;
    return { flinkVersion: DEFAULT_FLINK_VERSION, userJars: [fixtureJar(version)], defaultJobClass: FIXTURE_MAIN_CLASSES[version] };
  }
  return { error: `image "${image}" not found in the local node's image table` };
}
