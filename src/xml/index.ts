export { Element } from 'ltx';
export {
  parseStrictXml,
  parseXmlDocument,
  XmlSyntaxError,
  XmlDepthError,
  TruncatedElement,
  STORED_XML_MAX_DEPTH,
  type ParseLimits,
  type ParsedChild,
  type ParsedDocument,
} from './strict-parse';
export { serializeXml } from './serialize';
export { cloneElement } from './clone';
