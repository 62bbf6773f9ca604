// Unit tests read times in UTC whatever the machine's zone, unless a test chooses one.
import { setTimeZone } from '../format/format';

setTimeZone('UTC');
