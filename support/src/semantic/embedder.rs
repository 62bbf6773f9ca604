//! A sentence-embedding model on the CPU: a BERT encoder (all-MiniLM-L6-v2) turns a text into a
//! vector whose direction stands for its meaning, so two questions that mean the same point the
//! same way even when they share no word.
//!
//! The model is read from a directory (see `scripts/fetch-model.sh`), never fetched at run time.
//! Its output for a text is the mean of its token vectors, padding left out, scaled to length 1:
//! the pooling the model was trained with, and the one that makes a dot product the cosine
//! similarity.

use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer};

/// The files a model directory must hold.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Texts embedded in one forward pass at start; bounds the memory of the padded batch.
const BATCH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum EmbedderError {
    #[error(
        "the embedding model directory {} has no {file}; fetch the model with scripts/fetch-model.sh and \
         set EMS_EMBEDDING_MODEL to the directory it prints", dir.display()
    )]
    MissingFile { dir: PathBuf, file: &'static str },
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is not a BERT configuration: {source}", path.display())]
    Config { path: PathBuf, source: serde_json::Error },
    #[error("cannot load the tokenizer {}: {message}", path.display())]
    Tokenizer { path: PathBuf, message: String },
    #[error("cannot load the weights {} (a truncated download? run scripts/fetch-model.sh again): {source}", path.display())]
    Weights { path: PathBuf, source: candle_core::Error },
    #[error("cannot tokenise the text: {0}")]
    Encode(String),
    #[error("the embedding thread stopped: {0}")]
    Thread(String),
    #[error("the model failed on the text: {0}")]
    Inference(#[from] candle_core::Error),
}

/// One text's embedding: unit length, so the dot product of two is their cosine similarity.
pub type Embedding = Vec<f32>;

/// The model and its tokenizer, loaded once and shared; embedding is CPU work, to be run off the
/// async runtime (`spawn_blocking`).
pub struct Embedder {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

impl Embedder {
    /// Whether `dir` holds every file a model needs (it may still fail to load).
    pub fn present(dir: &Path) -> bool {
        MODEL_FILES.iter().all(|file| dir.join(file).is_file())
    }

    /// Loads the model in `dir`; an error names the file that is missing or wrong.
    pub fn load(dir: &Path) -> Result<Self, EmbedderError> {
        if let Some(file) = MODEL_FILES.into_iter().find(|file| !dir.join(file).is_file()) {
            return Err(EmbedderError::MissingFile { dir: dir.to_owned(), file });
        }
        let path = dir.join("config.json");
        let source = read(&path)?;
        let config: Config =
            serde_json::from_slice(&source).map_err(|source| EmbedderError::Config { path: path.clone(), source })?;

        let path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&path)
            .map_err(|error| EmbedderError::Tokenizer { path: path.clone(), message: error.to_string() })?;
        // The file pads every text to 128 tokens; padding a batch to its longest text gives the
        // same vectors (padding is masked out) at a fraction of the work.
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));

        // Read into memory rather than memory-mapped: mapping a file is `unsafe` in candle's
        // API, and the workspace forbids unsafe code. The bytes are freed once the weights are
        // copied into the model's tensors.
        let path = dir.join("model.safetensors");
        let device = Device::Cpu;
        let weights = VarBuilder::from_buffered_safetensors(read(&path)?, DType::F32, &device)
            .map_err(|source| EmbedderError::Weights { path: path.clone(), source })?;
        let model = BertModel::load(weights, &config).map_err(|source| EmbedderError::Weights { path, source })?;
        Ok(Self { model, tokenizer, device })
    }

    /// The embedding of one text.
    pub fn embed(&self, text: &str) -> Result<Embedding, EmbedderError> {
        Ok(self.embed_batch(&[text])?.pop().expect("one embedding for one text"))
    }

    /// The embeddings of many texts, in their order.
    pub fn embed_all(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedderError> {
        let mut embeddings = Vec::with_capacity(texts.len());
        for batch in texts.chunks(BATCH) {
            embeddings.extend(self.embed_batch(batch)?);
        }
        Ok(embeddings)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Embedding>, EmbedderError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|error| EmbedderError::Encode(error.to_string()))?;
        let rows = |field: fn(&tokenizers::Encoding) -> &[u32]| -> Result<Tensor, EmbedderError> {
            let rows = encodings
                .iter()
                .map(|encoding| Tensor::new(field(encoding), &self.device))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Tensor::stack(&rows, 0)?)
        };
        let ids = rows(tokenizers::Encoding::get_ids)?;
        let type_ids = rows(tokenizers::Encoding::get_type_ids)?;
        let mask = rows(tokenizers::Encoding::get_attention_mask)?;

        // (texts, tokens, hidden) -> the mean over the real tokens -> unit length.
        let hidden = self.model.forward(&ids, &type_ids, Some(&mask))?;
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?;
        let unit = mean.broadcast_div(&norms)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, EmbedderError> {
    std::fs::read(path).map_err(|source| EmbedderError::Io { path: path.to_owned(), source })
}

/// The cosine similarity of two unit vectors.
pub fn similarity(left: &[f32], right: &[f32]) -> f32 {
    left.iter().zip(right).map(|(a, b)| a * b).sum()
}
